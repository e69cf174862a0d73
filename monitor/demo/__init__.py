"""`brand-monitor demo`: a scripted day, a local feed server and a capture mailbox, offline."""
