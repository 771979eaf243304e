"""An in-process platform: the real flows without any chat account (tests, demo)."""
