from bot.cli import main

if __name__ == "__main__":  # not when a turn process (spawned) imports the main module
    main()
