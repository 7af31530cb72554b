package urlcanon_test

import (
	"fmt"

	"github.com/eradicate-dev/eradicate/internal/urlcanon"
)

func ExampleCanonicalize() {
	for _, raw := range []string{
		"http://www.GOOgle.com.../a/./b/../c#frag",
		"http://3279880203/blah",
		"http://host/%25%32%35",
	} {
		c, err := urlcanon.Canonicalize(raw)
		fmt.Println(c, err)
	}
	// Output:
	// http://www.google.com/a/c <nil>
	// http://195.127.0.11/blah <nil>
	// http://host/%25 <nil>
}

func ExampleClean() {
	u, layers, err := urlcanon.Clean("https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.proofpoint.com%2Fv2%2Furl%3Fu%3Dhttp-3A__Evil.example.co.uk_track_12345_open%26d%3DDwMF&data=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	tmpl, _ := urlcanon.Template(u.Path)
	fmt.Println(u, layers)
	fmt.Println(u.RegistrableDomain(), tmpl)
	// Output:
	// http://evil.example.co.uk/track/12345/open 2
	// example.co.uk /track/{num}/open
}
