"""The presentation layer: everything that turns an analysis into something a person reads.

``words`` (sentences shared by the briefing and the ICO form, no plotting), ``charts`` (the map
and band chart), ``briefing`` (the leadership HTML sections), ``export`` and ``render`` (the
self-contained HTML and PDF), ``restricted`` (the officers' files under restricted/),
``summary_file`` (summary.json), ``ico`` (the regulator's form) and ``explore`` (the analysts'
notebook). Data flows one way: the analysis never imports from here.
"""
