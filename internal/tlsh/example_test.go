package tlsh_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/eradicate-dev/eradicate/internal/tlsh"
)

// invoice returns a small text document that differs by the customer
// name and the amount.
func invoice(name, amount string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Dear %s,\n\nYour invoice is attached. Please pay %s within 7 days\n", name, amount)
	for i := range 12 {
		fmt.Fprintf(&b, "Item %d: consulting services, %d hours at the agreed rate\n", i+1, 3*i+2)
	}
	b.WriteString("Pay now: https://billing.example.com/pay\nRegards, Accounts\n")
	return []byte(b.String())
}

func ExampleHash() {
	d, err := tlsh.Hash(invoice("Alice", "EUR 1,250.00"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)

	_, err = tlsh.Hash([]byte("too short"))
	fmt.Println(errors.Is(err, tlsh.ErrTooShort))
	// Output:
	// T1F001502D2FC113F8074488517BFFE854A294C43103F3A5A21B6D916427585DC9C3E6F7
	// true
}

func ExampleDiff() {
	a, _ := tlsh.Hash(invoice("Alice", "EUR 1,250.00"))
	b, _ := tlsh.Hash(invoice("Bob", "USD 980.00"))
	c, _ := tlsh.Hash([]byte(strings.Repeat("Meeting notes: the quarterly review moves to Thursday. ", 20)))
	fmt.Println("same invoice:", tlsh.Diff(a, a))
	fmt.Println("other customer:", tlsh.Diff(a, b))
	fmt.Println("unrelated text:", tlsh.Diff(a, c))
	// Output:
	// same invoice: 0
	// other customer: 47
	// unrelated text: 242
}

func ExampleParse() {
	d, err := tlsh.Parse("BC51391C6A04067790D38293F039CA76FF38E56A13437D4AC4AB430C31B5D7A6BB10AE")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
	_, err = tlsh.Parse("T1XYZ")
	fmt.Println(err)
	// Output:
	// T1BC51391C6A04067790D38293F039CA76FF38E56A13437D4AC4AB430C31B5D7A6BB10AE
	// tlsh: invalid digest: length 5, want 70 or 72
}

func ExampleHasher() {
	var h tlsh.Hasher
	for _, part := range strings.SplitAfter(string(invoice("Alice", "EUR 1,250.00")), "\n") {
		_, _ = h.Write([]byte(part))
	}
	streamed, _ := h.Sum()
	whole, _ := tlsh.Hash(invoice("Alice", "EUR 1,250.00"))
	fmt.Println(streamed == whole)
	// Output:
	// true
}
