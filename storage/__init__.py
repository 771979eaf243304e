"""Tandem's state: SQLAlchemy 2 async models and the database handle.

No chat platform SDK is imported here: storage knows platforms only by name.
"""
