"""Electronic health book (sổ sức khỏe điện tử): visits, diagnoses, lab results, drugs, referrals,
appointments and certificates per citizen, built from the gateway's accepted records; consented
sharing with facilities."""
