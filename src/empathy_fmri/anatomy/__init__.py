"""The MNI152 anatomy that ships inside nilearn: grid, tissue maps, spheres, placement checks."""
