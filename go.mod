module ramona

go 1.26
