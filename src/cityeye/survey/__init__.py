"""社会评价: the annual survey of streets and departments by invited respondents
(issue 19 item 6; docs/survey.md)."""
