from paymesh.services.gateway.server import main

main()
