from nemotron.kit.cli import main

main()
