package main

// vocabulary is what the synthetic text is made of.
var vocabulary = []string{
	"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
	"not", "he", "she", "this", "are", "or", "his", "her", "from", "at", "which", "but", "have", "an", "had",
	"they", "you", "were", "their", "one", "all", "we", "can", "has", "there", "been", "if", "more", "when",
	"will", "would", "who", "so", "no", "government", "minister", "council", "city", "river", "harbour",
	"report", "budget", "election", "parliament", "court", "ruling", "market", "shares", "inflation", "bank",
	"energy", "climate", "storm", "drought", "harvest", "farmers", "workers", "union", "strike", "talks",
	"agreement", "treaty", "border", "trade", "export", "import", "factory", "railway", "bridge", "airport",
	"hospital", "doctors", "patients", "vaccine", "study", "researchers", "university", "students", "school",
	"teachers", "museum", "festival", "film", "novel", "orchestra", "season", "match", "league", "coach",
	"players", "final", "record", "victory", "defeat", "officials", "police", "investigation", "witnesses",
	"evidence", "spokesperson", "statement", "interview", "analysis", "figures", "percent", "million",
	"billion", "quarter", "annual", "growth", "decline", "recovery", "crisis", "plan", "proposal", "vote",
	"opposition", "coalition", "candidate", "campaign", "polls", "voters", "district", "region", "province",
	"capital", "neighbourhood", "residents", "housing", "rents", "prices", "wages", "pensions", "taxes",
	"software", "network", "satellite", "telescope", "laboratory", "experiment", "discovery", "species",
	"forest", "ocean", "coast", "island", "mountain", "valley", "village", "morning", "evening", "week",
	"month", "year", "decade", "early", "late", "new", "old", "first", "last", "largest", "smallest",
	"public", "private", "local", "national", "international", "official", "independent", "major", "minor",
	"said", "says", "told", "announced", "warned", "promised", "denied", "confirmed", "rejected", "approved",
	"expected", "reported", "found", "showed", "suggested", "argued", "agreed", "refused", "planned", "opened",
	"closed", "rose", "fell", "doubled", "halved", "returned", "remained", "became", "began", "ended",
	"quickly", "slowly", "again", "still", "already", "nearly", "almost", "only", "also", "however",
	"meanwhile", "despite", "after", "before", "during", "while", "because", "although", "since", "until",
}

var firstNames = []string{
	"Ada", "Bram", "Chiara", "Dmitri", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kaia", "Luca",
	"Maren", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Ulla", "Vera", "Wim", "Yara",
}

var lastNames = []string{
	"Andersen", "Bakker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jansen",
	"Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rossi", "Sato", "Tanaka",
}
