from codestar.cli.main import main

main()
