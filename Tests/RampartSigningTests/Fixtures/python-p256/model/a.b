a.b file
