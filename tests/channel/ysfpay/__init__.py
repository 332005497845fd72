"""Tests of the ysfpay (UnionPay ACP) adapter against its simulator, and of the simulator alone."""
