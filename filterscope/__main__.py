import sys

from filterscope.cli import main

sys.exit(main())
