"""Trading collective operational construction land: announcements, bids, deals, rights, mortgages."""
