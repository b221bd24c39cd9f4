"""Getting headlines in: fetch a feed politely, parse it in worker processes, poll on time."""
