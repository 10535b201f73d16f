"""Articles in: reading files (readers), splitting them into sentences (splitter), who says each
sentence (speakers), and feeding a shared index as files arrive (archive)."""
