package mock_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/calendartest"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mock"
)

func TestCalendarConformance(t *testing.T) {
	calendartest.Run(t, func(t *testing.T) *calendartest.Harness {
		tn := mock.New(&mock.Options{Logger: calLogger(t)})
		owners := []string{"alice@example.com", "bob@example.com", "carol@example.com"}
		for _, o := range owners {
			require.NoError(t, tn.AddUser(o))
		}
		return &calendartest.Harness{
			Store:  tn,
			Owners: owners,
			CreateCalendar: func(t *testing.T, owner, id, name string) {
				require.NoError(t, tn.CreateCalendar(owner, id, name))
			},
		}
	})
}

// calLogger routes the tenant's logs to t.Log.
func calLogger(t *testing.T) *slog.Logger { return testlog.Logger(t, slog.LevelDebug) }

// TestCalendarConformanceWithoutDefaultCalendar runs the suite against
// the tenant behind a calendar.Store that hides its DefaultCalendar, and
// without the CreateCalendar hook: the DefaultCalendar cases and those
// about several calendars skip, and every other case passes, new entries
// going to the first calendar listed.
func TestCalendarConformanceWithoutDefaultCalendar(t *testing.T) {
	calendartest.Run(t, func(t *testing.T) *calendartest.Harness {
		tn := mock.New(&mock.Options{Logger: calLogger(t)})
		owners := []string{"dave@example.com", "erin@example.com"}
		for _, o := range owners {
			require.NoError(t, tn.AddUser(o))
		}
		return &calendartest.Harness{Store: plainStore{tn}, Owners: owners}
	})
}

// plainStore is a calendar.Store and nothing more.
type plainStore struct{ calendar.Store }
