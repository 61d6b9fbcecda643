"""Follow-up after the meeting: activity list per case, reports over rounds, analysis round."""
