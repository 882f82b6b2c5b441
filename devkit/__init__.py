"""Dev and test tools, never in the wheel the host deploys: the fake IB gateway, the demo, the local cloud."""
