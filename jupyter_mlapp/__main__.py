from .extension import main

main()
