from paymesh.jobs.main import main

main()
