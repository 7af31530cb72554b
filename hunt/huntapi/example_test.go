package huntapi_test

import (
	"fmt"

	"github.com/eradicate-dev/eradicate/hunt/huntapi"
)

func ExampleParseFilter() {
	terms, err := huntapi.ParseFilter("senderDetail/fromAddress eq 'billing@evil.example' and contains(subject,'invoice') and loggedDateTime ge 2026-12-01T00:00:00Z")
	if err != nil {
		panic(err)
	}
	for _, t := range terms {
		if t.Property == "loggedDateTime" {
			fmt.Println(t.Property, t.Op, t.Time.Format("2006-01-02"))
			continue
		}
		fmt.Println(t.Property, t.Op, t.Value)
	}
	_, err = huntapi.ParseFilter("subject eq 'a' or subject eq 'b'")
	fmt.Println(err)
	// Output:
	// senderDetail/fromAddress eq billing@evil.example
	// subject contains invoice
	// loggedDateTime ge 2026-12-01
	// unsupported $filter: "or" is not supported: join comparisons with "and" (send one call per alternative)
}
