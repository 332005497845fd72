"""The ``paymesh`` command line."""
