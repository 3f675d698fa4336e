"""小河网驿 (issue 21): the key-enterprise registry (:mod:`.registry`), the visits and
the warnings that ask for one (:mod:`.visits`). docs/enterprises.md says the rules."""
