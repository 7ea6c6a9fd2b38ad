"""NXP i.MX plugin (i.MX 93 Ethos-U65 through Vela, i.MX 8M Plus): being built."""
