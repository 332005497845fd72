"""paymesh's servers, command line and the infrastructure they share."""
