"""Drawing code of the course: figures, players and explorers (the public names are in ``diffviz``)."""
