"""Local stand-ins for what lies outside this machine: Slack's and Microsoft's servers."""
