"""Platform adapters: each translates one chat platform to the neutral flows and back."""
