-- A subscriber whose plugin was removed from every instance that had it is
-- marked removed: its cursor stays (the plugin may come back and continue
-- from it) but its events no longer count as pending. Loading the plugin
-- again clears the mark; an admin can drop the row for good.
ALTER TABLE outbox_subscribers ADD COLUMN removed BOOLEAN NOT NULL DEFAULT FALSE;
