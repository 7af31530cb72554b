package cluster

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// SenderIP reads the address the receiving server recorded, never the
// client's HELO, and skips the receiving organisation's Exchange Online
// hops.
func TestSenderIPRecordedNotClaimed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		received []string
		want     string
	}{
		{"postfix with a forged address HELO", []string{"from [198.51.100.7] (unknown [203.0.113.9]) by mx.victim.example (Postfix)"}, "203.0.113.9"},
		{"exchange with a forged address HELO", []string{"from 198.51.100.7 (203.0.113.9) by EX01.victim.example (10.0.0.1) with Microsoft SMTP Server"}, "203.0.113.9"},
		{"exim without reverse DNS", []string{"from [203.0.113.9] (helo=[198.51.100.7]) by mx.victim.example with esmtp"}, "203.0.113.9"},
		{"qmail HELO comment", []string{"from unknown (HELO 198.51.100.7) (203.0.113.9) by mx.victim.example with SMTP"}, "203.0.113.9"},
		{"exchange online internal hops", []string{
			"from BL1PR19MB6108.namprd19.prod.outlook.com (::1) by DM4PR19MB6317.namprd19.prod.outlook.com with HTTPS",
			"from DM6PR11CA0052.namprd11.prod.outlook.com (2603:10b6:5:14c::29) by BL1PR19MB6108.namprd19.prod.outlook.com (2603:10b6:208:39f::8) with Microsoft SMTP Server",
			"from DM6NAM11FT080.eop-nam11.prod.protection.outlook.com (2603:10b6:5:14c:cafe::6e) by DM6PR11CA0052.outlook.office365.com (2603:10b6:5:14c::29) with Microsoft SMTP Server",
			"from mail.sender.example (209.85.219.67) by DM6NAM11FT080.mail.protection.outlook.com (10.13.173.105) with Microsoft SMTP Server",
		}, "209.85.219.67"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, netip.MustParseAddr(tc.want), SenderIP(tc.received))
		})
	}
}

// A phishing link on a look-alike rewriter host does not take the key of
// the site it names, so ham with that site's link never joins the cluster.
func TestLookalikeRewriterDoesNotJoinHam(t *testing.T) {
	x := New(nil)
	phish, err := NewURL("https://google.attacker.example/url?q=https://www.paypal.com/myaccount/summary")
	assert.NoError(t, err)
	ham, err := NewURL("https://www.paypal.com/myaccount/summary")
	assert.NoError(t, err)
	x.Add(&Indicators{MessageID: "phish@attacker.example", FromDomain: "attacker.example", URLs: []URL{phish}})
	x.Add(&Indicators{MessageID: "ham@paypal.com", FromDomain: "paypal.com", URLs: []URL{ham}})
	c, err := x.ClusterOf(SeedMessage("phish@attacker.example"), KindURL)
	assert.NoError(t, err)
	assert.Equal(t, 1, c.Len())
}

// Clusters of a combination of kinds finds every cluster that the kinds'
// links make, also one whose earliest message in the campaign is linked
// only by a kind left out.
func TestClustersCombinedKinds(t *testing.T) {
	x := New(nil)
	u, err := NewURL("http://evil.example/login")
	assert.NoError(t, err)
	x.Add(&Indicators{MessageID: "e@y", FromDomain: "y.example", Subject: "pay this invoice"})
	x.Add(&Indicators{MessageID: "c@y", FromDomain: "y.example", Subject: "pay this invoice", URLs: []URL{u}})
	x.Add(&Indicators{MessageID: "d@z", FromDomain: "z.example", Subject: "pay this invoice", URLs: []URL{u}})
	members := func(cs []*Cluster) [][]string {
		var out [][]string
		for _, c := range cs {
			var ids []string
			for _, m := range c.Members {
				ids = append(ids, m.MessageID)
			}
			out = append(out, ids)
		}
		return out
	}
	assert.Equal(t, [][]string{{"c@y", "d@z"}}, members(x.Clusters(KindURL)))
	assert.Equal(t, [][]string{{"c@y", "d@z"}}, members(x.Clusters(KindURL|KindFile)))
	assert.Len(t, x.Clusters(KindCampaign), 1)
}

// Links of a shared platform give no URL template: two unrelated Google
// Forms do not join; the same form link still does.
func TestNoTemplateOnSharedPlatforms(t *testing.T) {
	x := New(nil)
	a, err := NewURL("https://docs.google.com/forms/d/e/1FAIpQLSdAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/viewform")
	assert.NoError(t, err)
	b, err := NewURL("https://docs.google.com/forms/d/e/1FAIpQLSeBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/viewform")
	assert.NoError(t, err)
	assert.Empty(t, a.Template)
	x.Add(&Indicators{MessageID: "phish@evil.example", FromDomain: "evil.example", URLs: []URL{a}})
	x.Add(&Indicators{MessageID: "form@school.example", FromDomain: "school.example", URLs: []URL{b}})
	x.Add(&Indicators{MessageID: "phish2@evil2.example", FromDomain: "evil2.example", URLs: []URL{a}})
	c, err := x.ClusterOf(SeedMessage("phish@evil.example"), KindURL)
	assert.NoError(t, err)
	assert.Equal(t, 2, c.Len(), "the same form link joins; another form does not")
	own, err := NewURL("https://login.evil-bank.example/u/12345/verify")
	assert.NoError(t, err)
	assert.NotEmpty(t, own.Template, "a campaign's own host keeps its template")
}
