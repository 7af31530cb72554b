package mailbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInviteParts(t *testing.T) {
	inline := CalendarPart{Method: "REQUEST"}
	icsMethod := CalendarPart{Method: "REQUEST", Filename: "invite.ics", Attachment: true}
	icsPlain := CalendarPart{Filename: "event.ics", Attachment: true}
	for _, tc := range []struct {
		name  string
		parts []CalendarPart
		want  []int
	}{
		{"none", nil, nil},
		{"inline", []CalendarPart{inline}, []int{0}},
		{"inline and its .ics copy: the inline part", []CalendarPart{inline, icsMethod}, []int{0}},
		{"only an .ics naming a method", []CalendarPart{icsPlain, icsMethod}, []int{1}},
		{"an .ics without a method is a file to import", []CalendarPart{icsPlain}, nil},
		{"two inline parts", []CalendarPart{inline, icsPlain, inline}, []int{0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Parsed{Calendars: tc.parts}
			assert.Equal(t, tc.want, p.InviteParts())
		})
	}
}
