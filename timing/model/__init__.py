"""What one pod and one kubelet event say, parsed from Kubernetes objects."""
