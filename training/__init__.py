"""Training and evaluation for handpose-live. Depends on ``handpose_live``; never the reverse."""
