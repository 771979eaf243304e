"""Microsoft Teams: botbuilder's CloudAdapter on the shared server, Adaptive Cards both ways."""
