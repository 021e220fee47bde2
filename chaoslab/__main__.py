from chaoslab.cli import main

main()
