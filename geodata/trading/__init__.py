"""Trading on PostGIS: rights, announcements, bidder registrations, bids, deals, mortgages."""
