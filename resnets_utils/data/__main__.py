"""``python -m resnets_utils.data``: make the data set if it is missing and say where it is."""

import sys

from resnets_utils.data import main

sys.exit(main())
