"""Check-in, enrolment and staff conversations; questionnaires as data; pure decisions."""
