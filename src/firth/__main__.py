from firth.cli import main

raise SystemExit(main())
