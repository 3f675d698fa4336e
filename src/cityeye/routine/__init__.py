"""日提醒、周通报、月考核 · the routine: what cityeye does once per day, week and round."""
