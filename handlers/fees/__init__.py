"""党费: fee days, amounts owed, payments and their confirmation, reminders and arrears."""
