package mock_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar/calendartest"
	"github.com/eradicate-dev/eradicate/internal/testlog"
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
