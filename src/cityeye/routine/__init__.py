"""日提醒、周通报、月考核 · the assessment office's routine (issue 19 item 3): the daily
reminder, the weekly bulletin's notice, the round's published result, each run once
per period by ``cityeye serve``'s scheduler or ``cityeye assess`` (:mod:`.jobs`)."""
