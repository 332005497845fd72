from paymesh.services.cli.main import main

main()
