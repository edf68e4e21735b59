-- Version 8 exists for SQLite, which rebuilt its two journal tables so that each entry writes less (no
-- AUTOINCREMENT counter; postings stored by their primary key). PostgreSQL's identity column keeps no such
-- counter row, and a heap table with its primary key is how PostgreSQL stores every table: nothing changes
-- here; the number keeps both engines' versions aligned.
SELECT 1;
