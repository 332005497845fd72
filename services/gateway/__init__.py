"""The gateway: the JeePay-compatible merchant API, channel callback intake and pay orders."""
