"""Residents' suggestions (社情民意): what residents ask of their street office.

A street office receives a couple of thousand suggestions a month, written freely in
Chinese. :mod:`cityeye.participation.text` reads them offline: it segments the text,
puts each suggestion in a category, and folds near-duplicates into groups with a count,
so two hundred complaints about one car park reach the office as one item.
"""
