"""Shares: what friends share with each other (a file and/or an http(s) link, with a caption).

Modules by job: `uploads` (the streaming size limit and strict file names while a request is parsed),
`validation` (what may be shared: names, links, captions, file content against an allow-list),
`processing` (checksum and thumbnail computations), `services` (writes), `selectors` (reads and the one
access rule), `tasks` (the processing actor), `responses` (attachment downloads), and the API and pages.
"""
