"""Social insurance (BHXH/BHYT): contribution history (sổ BHXH), BHYT cards, funeral allowance."""
