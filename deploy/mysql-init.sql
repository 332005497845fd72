-- docker-compose.yml: the paymesh user (MYSQL_USER) may create and use one database per service
-- (paymesh_merchant, paymesh_gateway, ...): `paymesh migrate` creates and migrates them.
GRANT ALL PRIVILEGES ON `paymesh\_%`.* TO 'paymesh'@'%';
